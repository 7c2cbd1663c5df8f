// Placeholder until the netlink codec lands.
