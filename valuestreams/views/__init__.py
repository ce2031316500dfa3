"""Value-stream pages, one module per resource."""
