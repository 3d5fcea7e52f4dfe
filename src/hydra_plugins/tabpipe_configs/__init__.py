"""Makes tabpipe's config schemas and packaged defaults visible to any Hydra ``compose()``
(DVC's included).

Hydra imports every module under the ``hydra_plugins`` namespace when it starts, so
registering here means a project's ``conf/`` composes without importing tabpipe first, and
its defaults lists can name every packaged group option (``pkg://tabpipe.conf``, behind the
project's own files: :mod:`tabpipe.config.project`). Only dataclasses are imported: no ML library.
"""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

from tabpipe.config.project import PACKAGED
from tabpipe.config.store import register_configs

register_configs()


class TabpipeSearchPathPlugin(SearchPathPlugin):
    """Appends the packaged defaults to the search path (after the app's own config dir)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if not any(element.path == PACKAGED for element in search_path.get_path()):
            search_path.append(provider="tabpipe", path=PACKAGED)
