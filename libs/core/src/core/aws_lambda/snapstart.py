"""Lambda SnapStart (the stages that turn it on, infra.config): what an execution
environment restored from a snapshot must not share with the others restored from it.

- `random`'s state: botocore draws its retry jitter from it, and every copy would back off
  in step. Reseeded from the system's entropy after each restore. (Our own ids, tokens and
  salts come from os.urandom, which a restore does not replay.)
- Connections: none exists at the snapshot; the engine and the AWS clients connect on
  first use, after the restore.
- Credentials: a SnapStart function's credentials come from the container credentials
  endpoint, which botocore refreshes on its own; a client made before the snapshot
  (reading the secrets at init) keeps working.
- Secrets read at init are in the snapshot, encrypted as it is: a rotated secret reaches
  the functions by a new version (the deploy's INPUTS_DIGEST, infra.function_inputs),
  which takes a new snapshot.
"""

from __future__ import annotations

import random


def reseed() -> None:
    random.seed()


def register_restore_hooks() -> bool:
    """Registers the hooks with the runtime's snapshot library; False where there is none
    (anywhere but Lambda's Python runtime, where nothing is ever restored)."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(reseed)
    return True
