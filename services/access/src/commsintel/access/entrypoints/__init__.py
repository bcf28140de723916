"""The gRPC servicer (AccessService) and its value mapping."""
