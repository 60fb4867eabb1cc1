"""Running a Plan's changes against HSS, checkpointing the state after each."""
