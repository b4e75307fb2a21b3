"""The time contract: aligning observations to decision instants, and the step timeline of a simulation."""
