"""Memory planning: op order, buffer lifetimes, arena offsets, and a verifier every plan passes."""
