from bot.cli import main

# Guarded, so that a process spawned by the sweep's worker pool never runs the command again.
if __name__ == "__main__":
    raise SystemExit(main())
