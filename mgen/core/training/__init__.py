"""Training: the settings of a run, the loop, its schedule and history, several processes."""
