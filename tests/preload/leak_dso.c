/* The library prog_leaks dlopens: its data holds a pointer to a chunk. */
void *leak_dso_slot;
