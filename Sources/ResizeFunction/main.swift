// The Lambda bootstrap: see the ResizeFunction README section.
print("bootstrap: not yet implemented")
