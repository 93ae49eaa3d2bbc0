"""Model-Monitor-compatible monitoring computed by the control plane: see layers/monitor/README.md."""
