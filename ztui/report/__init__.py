"""What ztui shows, as data: the tree as JSON and text, the host-devices report, the filter."""
