"""Small helpers with no domain knowledge: JSON text, memory, files."""
