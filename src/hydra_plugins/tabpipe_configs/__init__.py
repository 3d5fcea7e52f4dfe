"""Makes tabpipe's config schemas visible to any Hydra ``compose()`` (DVC included).

Hydra imports every module under the ``hydra_plugins`` namespace when it starts, so
registering here means ``conf/`` composes without importing tabpipe first.
Only dataclasses are imported: no ML library.
"""

from tabpipe.config.store import register_configs

register_configs()
