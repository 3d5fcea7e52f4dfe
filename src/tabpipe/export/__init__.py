"""One ONNX graph per model, from raw columns to predictions; bundles and the registry."""

# ai.onnx opset and ai.onnx.ml opset of every exported graph (onnxmltools' tree converters
# support ai.onnx up to 15; ONNX Runtime >= 1.10 runs both).
OPSET = 15
ML_OPSET = 3
IR_VERSION = 8
