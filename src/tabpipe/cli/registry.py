"""``tabpipe registry list | show <ref> | promote <name>:<version> <alias> [--require-significant]``."""

from __future__ import annotations

import argparse
import json

from tabpipe.cli import fail
from tabpipe.errors import TabpipeError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tabpipe registry", description=__doc__)
    parser.add_argument("--root", help="registry directory (default: $TABPIPE_REGISTRY or ./registry)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="models, versions and aliases")
    show = commands.add_parser("show", help="one bundle: metrics, export, aliases (checksums verified)")
    show.add_argument("ref", help="name@alias, name:version or a bundle path")
    promote = commands.add_parser("promote", help="move an alias to a version (recorded in history)")
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
    return parser


def _run(args: argparse.Namespace) -> None:
    from tabpipe.export.bundle import load_bundle
    from tabpipe.export.registry import Registry, RegistryError

    registry = Registry(args.root)
    if args.command == "list":
        names = registry.names()
        if not names:
            print(f"no models in {registry.root}")
        for name in names:
            aliases = ", ".join(f"{a}->{v}" for a, v in sorted(registry.aliases(name).items()))
            print(f"{name:<24} versions {registry.versions(name)}  aliases [{aliases}]")
    elif args.command == "show":
        bundle = load_bundle(registry.resolve(args.ref))
        info = bundle.metadata.get("registry", {})
        name = info.get("name")
        print(
            json.dumps(
                {
                    "path": str(bundle.path),
                    "registry": info,
                    "task": bundle.schema["task"],
                    "classes": bundle.schema["classes"],
                    "inputs": [f"{i['name']}:{i['type']}" for i in bundle.schema["inputs"]],
                    "metrics": {
                        k: v for k, v in bundle.read_json("metrics.json").items() if k.startswith("test/")
                    },
                    "export": bundle.metadata.get("export"),
                    "aliases": registry.aliases(name) if name else {},
                    "alias_history": registry.history(name) if name else [],
                },
                indent=2,
            )
        )
    else:
        name, _, number = args.version_ref.partition(":")
        if not number.isdigit():
            raise RegistryError(f"{args.version_ref}: expected <name>:<version>")
        note = None
        if args.require_significant:
            from tabpipe.comparison.promotion import significance_record

            note = {"significance": significance_record(registry, name, int(number), args.alias, args.metric)}
        move = registry.promote(name, int(number), args.alias, who=args.who, note=note)
        print(f"{name}@{args.alias}: {move['from']} -> {move['to']}")
        if note and note["significance"].get("ci"):
            sig = note["significance"]
            print(
                f"significant: {sig['metric']} {sig['holder_value']:.4f} -> {sig['candidate_value']:.4f}, "
                f"improvement {sig['improvement']:+.4f}, CI [{sig['ci'][0]:+.4f}, {sig['ci'][1]:+.4f}]"
            )


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except TabpipeError as error:
        fail(error)
