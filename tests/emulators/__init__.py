"""BMC emulators the driver tests run on loopback (sushy-tools for Redfish, pyghmi for IPMI)."""
