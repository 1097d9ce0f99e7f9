"""The memory-task vertical: task data (N-parity, N-DMS, HMM sequences), task networks and
their heads, curricula, HMM emulation, robustness and timescales."""
