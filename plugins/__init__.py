"""Built-in detectors, one module per plugin, registered through the
``fraudwall.plugins`` entry-point group exactly like third-party plugins."""
