"""KAM role profiles: positions on a published framework version, weights and exercises."""
