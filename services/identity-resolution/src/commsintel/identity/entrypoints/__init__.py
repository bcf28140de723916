"""The gRPC servicers (WorkspaceService, IdentityService) and their value mapping."""
