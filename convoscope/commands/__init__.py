"""One module per `convoscope` sub-command; each defines `register(subparsers)`."""
