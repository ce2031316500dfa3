"""Writes for product teams and their outcomes, one module per resource. Each validates the model
(field rules and constraints) before saving and raises ValidationError naming the field at fault."""
