# Devices built into Lumen's qemu-system-x86_64 (configure
# --without-default-devices --with-devices-x86_64=lumen): the q35 machine
# with its ISA serial console, PCIe root ports for hot-plug, the VT-d IOMMU,
# QEMU's NVMe controller (the latency peer of lumen-bench) and the Lumen
# accelerator itself.  Everything else is left out to keep the build short.

CONFIG_Q35=y
CONFIG_PCIE_PORT=y
CONFIG_VTD=y
CONFIG_NVME_PCI=y
CONFIG_LUMEN=y

# Small helpers for unattended test runs: isa-debug-exit (exit status from
# the guest) and pvpanic (a guest panic ends the run at once).
CONFIG_ISA_DEBUG=y
CONFIG_PVPANIC_ISA=y
