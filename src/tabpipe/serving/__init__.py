"""Online (FastAPI) and batch serving of bundles with ONNX Runtime."""
