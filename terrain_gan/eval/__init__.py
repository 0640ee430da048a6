"""Evaluation: terrain measures, classifier two-sample test, fBm baseline, the eval table."""
