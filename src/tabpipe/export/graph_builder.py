"""A small helper to build ONNX graphs node by node with unique names."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tabpipe.export import IR_VERSION, ML_OPSET, OPSET

ONNX_TYPES = {
    "float": TensorProto.FLOAT,
    "double": TensorProto.DOUBLE,
    "string": TensorProto.STRING,
    "int64": TensorProto.INT64,
}


class GraphBuilder:
    def __init__(self, prefix: str = "") -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._ids = itertools.count()
        self.prefix = prefix

    def name(self, hint: str) -> str:
        return f"{self.prefix}{hint}_{next(self._ids)}"

    def const(self, value: object, dtype: type | str | None = None, hint: str = "c") -> str:
        if (isinstance(value, (list, tuple)) and value and isinstance(value[0], str)) or isinstance(
            value, str
        ):
            array = np.array(value, dtype=object)
        else:
            array = np.asarray(value, dtype=dtype)
        name = self.name(hint)
        if array.dtype == object:
            tensor = helper.make_tensor(
                name, TensorProto.STRING, array.shape, [s.encode() for s in array.ravel()]
            )
        else:
            tensor = numpy_helper.from_array(array, name)
        self.initializers.append(tensor)
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        hint: str | None = None,
        domain: str = "",
        outputs: int = 1,
        **attrs: object,
    ) -> str | list[str]:
        names = [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, domain=domain, **attrs))
        return names[0] if outputs == 1 else names

    def add_input(self, name: str, kind: str, width: int | None = 1) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, ONNX_TYPES[kind], [None, width]))
        return name

    def add_output(self, source: str, name: str, kind: str, shape: Sequence[object]) -> None:
        self.nodes.append(helper.make_node("Identity", [source], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, ONNX_TYPES[kind], list(shape)))

    def model(self, graph_name: str) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
            producer_name="tabpipe",
        )
        model.ir_version = IR_VERSION
        return model
