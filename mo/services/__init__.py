"""mo's services: the only place the invariants and business rules live."""
