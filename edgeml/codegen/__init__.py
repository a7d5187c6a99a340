"""C emission: a planned program as model.c/model.h over the firmware/ runtime."""
