"""One module per screen of the analyst TUI."""
