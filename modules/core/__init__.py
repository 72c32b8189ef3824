"""Building blocks shared by every subsystem: the stack base class and naming."""
