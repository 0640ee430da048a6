"""Exported files opened in real engines (Blender, Godot): see engine_support.py."""
