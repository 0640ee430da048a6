"""DEM files in, heights in metres out: readers by format, units, resampling to the model's cell size."""
