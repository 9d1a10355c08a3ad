"""Domain values: names, quantities and packs, decimals, instants, results."""
