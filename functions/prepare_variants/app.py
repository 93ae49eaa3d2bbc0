"""Task "Prepare Variants": a new endpoint config with the candidate at weight 0, data capture on."""

from rollouts.logic.lifecycle import prepare_variants
from rollouts.observability import task_handler

lambda_handler = task_handler(prepare_variants)
