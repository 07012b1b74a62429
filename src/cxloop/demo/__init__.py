"""``cxloop demo``: a simulated online shop in Vietnam and Thailand, loaded into a workspace
through cxloop's own ingestion, survey, text and KPI paths. See docs/demo.md."""
