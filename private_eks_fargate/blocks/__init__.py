"""Building blocks: one construct (or catalog) per unit, each usable on its own; they know nothing above them."""
