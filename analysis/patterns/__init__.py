"""Pattern recognition over many interactions: clusters of similar conversations, rising
issues, repeat contacts and first-contact resolution, traits of low-satisfaction
interactions, the best agents' phrases and stage order, and QA scorecards.

The scheduler calls `analysis.patterns.job.run_patterns` (full recompute) and
`analysis.patterns.job.assign_new` (incremental clustering); readers use `store.patterns`.
"""
