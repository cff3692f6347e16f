# A build profile as a plain list: PATH [builtin|module|header]
kernel/bpf/verifier.c builtin
net/bridge/br_mrp_netlink.c module
drivers/media/usb/uvc/uvc_driver.c module
drivers/hid/hid-core.c builtin
sound/usb/clock.c module
sound/usb/quirks.c module
