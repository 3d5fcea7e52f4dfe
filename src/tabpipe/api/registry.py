"""``tabpipe.Registry``: the file-system model registry, as ``tabpipe registry`` sees it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tabpipe.errors import RegistryError

if TYPE_CHECKING:
    from tabpipe.api.bundle import Bundle
    from tabpipe.export.registry_listing import VersionInfo
    from tabpipe.export.registry_records import AliasMove


def _version_ref(ref: str) -> tuple[str, int]:
    name, _, number = ref.partition(":")
    if not number.isdigit():
        raise RegistryError(f"{ref}: expected <name>:<version>")
    return name, int(number)


class Registry:
    """A registry directory: ``<root>/<name>/<version>/`` bundles, aliases and their history.

    Args:
        root: the registry directory (default: ``$TABPIPE_REGISTRY``, else ``./registry``),
            the one ``tabpipe train`` registers into (``registry.root``).
    """

    def __init__(self, root: str | Path | None = None) -> None:
        from tabpipe.export.registry import Registry as FileRegistry

        self._registry = FileRegistry(root)

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    @property
    def root(self) -> Path:
        """The registry directory."""
        return self._registry.root

    def names(self) -> list[str]:
        """The registered model names, sorted."""
        return self._registry.names()

    def list(self, name: str | None = None) -> list[VersionInfo]:
        """Every version (of ``name``, else of every model), as ``tabpipe registry list``
        shows them: model, primary test metric, dates, git, data hash, source, aliases.

        Raises:
            tabpipe.errors.RegistryError: ``name`` is not a model of this registry.
        """
        from tabpipe.cli.registry_views import with_default_metric
        from tabpipe.export.registry_listing import list_versions

        if name is not None and name not in self.names():
            have = ", ".join(self.names()) or "none"
            raise RegistryError(f"{name}: no such model in {self.root} (models: {have})")
        rows = list_versions(self._registry, [name] if name else None)
        return [with_default_metric(self._registry, row) for row in rows]

    def get(self, ref: str) -> Bundle:
        """The bundle of ``ref`` (``name@alias``, ``name:version`` or a bundle path), verified.

        Raises:
            tabpipe.errors.RegistryError: an unknown model, alias or version.
            tabpipe.errors.BundleError: a bundle that fails its checksums or signature.
            tabpipe.errors.SignatureError: with ``$TABPIPE_REGISTRY_KEY``, a ``name@alias``
                whose ``aliases.json`` has no valid signature.
        """
        from tabpipe.api.bundle import load_bundle

        return load_bundle(ref, registry=self.root)

    def aliases(self, name: str) -> dict[str, int]:
        """The aliases of model ``name`` and the version each points to (with
        ``$TABPIPE_REGISTRY_KEY``, ``aliases.json``'s signature verified first:
        :class:`tabpipe.errors.SignatureError` if it is missing or wrong)."""
        return dict(self._registry.aliases(name))

    def promote(
        self,
        ref: str,
        alias: str,
        who: str | None = None,
        require_significant: bool = False,
        metric: str | None = None,
    ) -> AliasMove:
        """Move ``alias`` to the version ``ref`` (``name:version``) once it verifies, as
        ``tabpipe registry promote`` does; the move is appended to the alias history.

        Args:
            ref: ``name:version``.
            alias: the alias to move (``production``, ``candidate``, ...).
            who: recorded in the history (default: the OS user).
            require_significant: move only if the version is significantly better than the
                alias's current holder (``--require-significant``).
            metric: with ``require_significant``, the metric (default: the primary one).

        Raises:
            tabpipe.errors.RegistryError: a bad ref or alias, or an unknown version.
            tabpipe.errors.SignificanceGateError: ``require_significant`` and no significant
                improvement.
        """
        name, version = _version_ref(ref)
        note = None
        if require_significant:
            from tabpipe.comparison.promotion import significance_record

            record = significance_record(self._registry, name, version, alias, metric)
            note = {"significance": record.as_note()}
        return self._registry.promote(name, version, alias, who=who, note=note)

    def history(self, name: str) -> list[AliasMove]:
        """Every alias move of model ``name``, oldest first.

        Raises:
            tabpipe.errors.RegistryError: ``name`` is not a valid model name.
        """
        return self._registry.history(name)
