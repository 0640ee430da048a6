# Run by Godot 4 (`godot --headless --path PROJECT --script res://godot_probe.gd -- OUT.json res://a.tscn ...`),
# not by pytest: instances each scene the way a game would and writes what Godot holds to OUT.json: for every
# MeshInstance3D, its vertices in world space (Godot axes: +Y up, -Z north), face count, its vertex colours
# (as Godot holds them, and whether its material reads them as sRGB), and its material's albedo texture
# size. The project must have been imported (--import).
extends SceneTree

var _done := false


func _mesh(node: MeshInstance3D) -> Dictionary:
	var arrays := node.mesh.surface_get_arrays(0)
	var xf := node.global_transform
	var flat := PackedFloat64Array()
	for v: Vector3 in arrays[Mesh.ARRAY_VERTEX]:
		var w: Vector3 = xf * v
		flat.append_array([w.x, w.y, w.z])
	var material := node.get_active_material(0) as BaseMaterial3D
	var texture_size := []
	if material and material.albedo_texture:
		var size := material.albedo_texture.get_size()
		texture_size = [size.x, size.y]
	var colors := PackedFloat64Array()
	if arrays[Mesh.ARRAY_COLOR] != null:
		for c: Color in arrays[Mesh.ARRAY_COLOR]:
			colors.append_array([c.r, c.g, c.b, c.a])
	return {"name": String(node.name), "owner": String(node.owner.name) if node.owner else "",
			"vertices": flat, "faces": arrays[Mesh.ARRAY_INDEX].size() / 3,
			"colors": arrays[Mesh.ARRAY_COLOR] != null, "color_values": colors,
			"albedo_texture_size": texture_size,
			"vertex_color_is_albedo": material.vertex_color_use_as_albedo if material else false,
			"vertex_color_is_srgb": material.vertex_color_is_srgb if material else false}


func _collect(node: Node, out: Array) -> void:
	if node is MeshInstance3D:
		out.append(_mesh(node))
	for child in node.get_children():
		_collect(child, out)


func _process(_delta: float) -> bool:
	if _done:
		return true
	_done = true
	var args := OS.get_cmdline_user_args()
	var report := {"godot": Engine.get_version_info().string}
	for i in range(1, args.size()):
		var out := []
		_collect(root.get_node(NodePath("scene_%d" % i)), out)
		report[args[i]] = out
	var f := FileAccess.open(args[0], FileAccess.WRITE)
	f.store_string(JSON.stringify(report))
	f.close()
	quit(0)
	return true


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	for i in range(1, args.size()):
		var scene := load(args[i]).instantiate() as Node
		scene.name = "scene_%d" % i
		root.add_child(scene)  # in the tree: global transforms are the scene's placements
