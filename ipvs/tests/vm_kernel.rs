//! Kernel tests of the `ipvs` crate in a qemu VM.
//!
//! On the host (`cargo test -p linux-ipvs --test vm_kernel`) this boots Debian's
//! cloud kernel with `vm/run-vm.sh`, copying this very binary into the
//! initramfs, and fails unless every check passed inside the guest. In
//! the guest (`IPVS_VM_GUEST=1`) it runs the checks against the real
//! kernel, comparing every state with `ipvsadm -S -n`.
#![allow(clippy::unwrap_used)] // test program: a panic is a failed check
#![allow(missing_docs, unreachable_pub)]

mod vm;

fn main() {
    if std::env::var_os("IPVS_VM_GUEST").is_some() {
        std::process::exit(vm::guest::run());
    }
    // Honour `cargo test FILTER`: only run when the filter selects us.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !args.is_empty() && !args.iter().any(|f| "vm_kernel".contains(f.as_str())) {
        println!("vm_kernel: filtered out");
        return;
    }
    vm::host::run();
}
