"""Operating the stack: phase documents from stack outputs, and the latency probe."""
