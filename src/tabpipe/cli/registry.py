"""``tabpipe registry list | show <ref> | promote <name>:<version> <alias>``."""

from __future__ import annotations

import argparse
import json
import sys

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
        move = registry.promote(name, int(number), args.alias, who=args.who)
        print(f"{name}@{args.alias}: {move['from']} -> {move['to']}")


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except TabpipeError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
