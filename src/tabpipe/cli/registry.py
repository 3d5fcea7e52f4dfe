"""``tabpipe registry list | show | promote | delete | gc | fsck | sign``.

::

    tabpipe registry list [name] [--json]          # model, metric, date, git, data, source, aliases
    tabpipe registry show telco_churn@production [--json]
    tabpipe registry promote telco_churn:3 production [--require-significant]
    tabpipe registry delete telco_churn:2          # never a version an alias points to
    tabpipe registry gc telco_churn --keep 5 [--dry-run]
    tabpipe registry fsck [--repair]               # debris of killed processes, checksums, aliases
    tabpipe registry sign telco_churn:3 | --all    # with $TABPIPE_REGISTRY_KEY: versions and aliases
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tabpipe.cli import fail
from tabpipe.errors import TabpipeError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tabpipe registry", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", help="registry directory (default: $TABPIPE_REGISTRY or ./registry)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser(
        "list", help="every version: model, primary test metric, date, git, data, source"
    )
    listing.add_argument("name", nargs="?", help="one model (default: all)")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    show = commands.add_parser(
        "show", help="one version (checksums verified): the list's fields, inputs, metrics"
    )
    show.add_argument("ref", help="name@alias, name:version or a bundle path")
    show.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    promote = commands.add_parser("promote", help="move an alias to a verified version (recorded in history)")
    promote.add_argument("version_ref", metavar="name:version")
    promote.add_argument("alias")
    promote.add_argument("--who", help="recorded in the alias history (default: the OS user)")
    promote.add_argument(
        "--require-significant",
        action="store_true",
        help="move only if the version is significantly better than the alias's current holder "
        "(paired bootstrap 95%% CI of the primary metric's improvement above 0; see tabpipe compare)",
    )
    promote.add_argument("--metric", help="with --require-significant: the metric (default: primary)")
    delete = commands.add_parser("delete", help="delete a version no alias points to")
    delete.add_argument("version_ref", metavar="name:version")
    delete.add_argument("--who", help="recorded in deletions.jsonl (default: the OS user)")
    gc = commands.add_parser("gc", help="delete all but the newest N versions, never an aliased one")
    gc.add_argument("name")
    gc.add_argument("--keep", type=int, required=True, metavar="N")
    gc.add_argument("--dry-run", action="store_true", help="print what would be deleted")
    gc.add_argument("--who", help="recorded in deletions.jsonl (default: the OS user)")
    fsck = commands.add_parser("fsck", help="report debris, bad versions and aliases (exit 1 if any)")
    fsck.add_argument("--repair", action="store_true", help="remove the debris of killed processes")
    sign = commands.add_parser("sign", help="sign verified versions and aliases with $TABPIPE_REGISTRY_KEY")
    sign.add_argument("ref", nargs="?", help="name:version or name@alias")
    sign.add_argument("--all", action="store_true", help="every version of every model")
    return parser


def _version_ref(ref: str) -> tuple[str, int]:
    from tabpipe.export.registry import RegistryError

    name, _, number = ref.partition(":")
    if not number.isdigit():
        raise RegistryError(f"{ref}: expected <name>:<version>")
    return name, int(number)


def _promote(registry: Any, args: argparse.Namespace) -> None:
    name, version = _version_ref(args.version_ref)
    sig = None
    if args.require_significant:
        from tabpipe.comparison.promotion import significance_record

        sig = significance_record(registry, name, version, args.alias, args.metric)
    note = {"significance": sig.as_note()} if sig else None
    move = registry.promote(name, version, args.alias, who=args.who, note=note)
    print(f"{name}@{args.alias}: {move.from_} -> {move.to}")
    if sig and sig.ci:
        print(
            f"significant: {sig.metric} {sig.holder_value:.4f} -> {sig.candidate_value:.4f}, "
            f"improvement {sig.improvement:+.4f}, CI [{sig.ci[0]:+.4f}, {sig.ci[1]:+.4f}]"
        )


def _fsck(registry: Any, args: argparse.Namespace) -> None:
    from tabpipe.export.registry_fsck import fsck

    findings, notes = fsck(registry, repair=args.repair)
    for line in notes:
        print(f"note: {line}")
    for finding in findings:
        print(f"{'repaired' if finding.repaired else 'problem'}: {finding.model}: {finding.problem}")
    left = [f for f in findings if not f.repaired]
    print(
        f"{registry.root}: {len(findings)} finding(s), {len(findings) - len(left)} repaired, {len(left)} left"
    )
    if left:
        sys.exit(1)


def _sign(registry: Any, args: argparse.Namespace) -> None:
    from tabpipe.export.bundle import MANIFEST, verify_checksums
    from tabpipe.export.registry import ALIASES, RegistryError
    from tabpipe.export.signing import KEY_ENV, sign, signing_key

    key = signing_key()
    if key is None:
        raise RegistryError(f"${KEY_ENV} is not set: nothing to sign with")
    if args.all == bool(args.ref):
        raise RegistryError("sign: give one ref (name:version or name@alias) or --all")
    # aliases.json first (a name@alias ref resolves through it): validated, then signed as it is
    with_aliases = registry.names() if args.all else [args.ref.split("@", 1)[0]] if "@" in args.ref else []
    for name in with_aliases:
        if (signed := registry.sign_aliases(name)) is not None:
            print(f"signed {signed.with_name(ALIASES)}")
    paths = (
        [registry.version_dir(n, v) for n in registry.names() for v in registry.versions(n)]
        if args.all
        else [registry.resolve(args.ref)]
    )
    for path in paths:
        verify_checksums(path)  # never sign a changed file
        sign(path, path / MANIFEST, key)  # the verified manifest: a file added since is not signed in
        print(f"signed {path}")


def _run(args: argparse.Namespace) -> None:
    from tabpipe.cli import registry_views
    from tabpipe.export.registry import Registry

    registry = Registry(args.root)
    if args.command == "list":
        registry_views.print_list(registry, args.name, args.json)
    elif args.command == "show":
        registry_views.print_show(registry, args.ref, args.json)
    elif args.command == "promote":
        _promote(registry, args)
    elif args.command == "delete":
        name, version = _version_ref(args.version_ref)
        registry.delete(name, version, who=args.who)
        print(f"deleted {name}:{version}")
    elif args.command == "gc":
        doomed = registry.gc(args.name, args.keep, who=args.who, dry_run=args.dry_run)
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{args.name}: {verb} {doomed or 'nothing'}; kept {registry.versions(args.name)}")
    elif args.command == "fsck":
        _fsck(registry, args)
    else:
        _sign(registry, args)


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except TabpipeError as error:
        fail(error)
