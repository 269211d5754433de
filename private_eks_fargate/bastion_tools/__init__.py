"""Commands that run on the bastion. Standard library only: the bastion runs them without this package's dependencies."""
