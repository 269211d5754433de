"""The composition: the one place that assembles a whole platform from the building blocks."""
