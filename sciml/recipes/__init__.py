"""Ready task recipes (YAML): data + model + training + evaluation. ``sciml list`` shows them."""
