//! The few syscalls netlink-sys does not wrap: forcing the receive buffer
//! size and entering a network namespace.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

/// `SO_RCVBUFFORCE` (needs CAP_NET_ADMIN; above `rmem_max`).
pub(crate) fn force_rcvbuf(sock: &impl AsRawFd, bytes: usize) -> io::Result<()> {
    let val = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: the fd is open for the duration of the call, the option value
    // points to a live c_int and its exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Moves the calling thread into the network namespace of `fd`.
pub(crate) fn setns_net(fd: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: setns only reads the fd; CLONE_NEWNET restricts it to a
    // network namespace and affects the calling thread only.
    let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
