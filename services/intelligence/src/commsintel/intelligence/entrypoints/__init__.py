"""The gRPC servicer and its value mapping."""
