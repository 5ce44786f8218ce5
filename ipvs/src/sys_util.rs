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

/// Receives up to `bufs.len()` datagrams with one `recvmmsg` call: blocks
/// for the first, then takes only what is already queued
/// (`MSG_WAITFORONE`). Datagram `i` lands in `bufs[i]`, its length in
/// `lens[i]`; returns how many arrived. A datagram longer than its buffer
/// is an error (it would have been cut).
pub(crate) fn recv_many(
    sock: &impl AsRawFd,
    bufs: &mut [Vec<u8>],
    lens: &mut [usize],
) -> io::Result<usize> {
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: an all-zero msghdr (null name and control) is valid.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let vlen = libc::c_uint::try_from(hdrs.len().min(lens.len())).unwrap_or(libc::c_uint::MAX);
    // SAFETY: every header points to one live iovec covering an initialised
    // buffer of iov_len bytes; `iovs`, `hdrs` and `bufs` outlive the call
    // and are not otherwise used during it; no timeout pointer is passed.
    let n = unsafe {
        libc::recvmmsg(
            sock.as_raw_fd(),
            hdrs.as_mut_ptr(),
            vlen,
            libc::MSG_WAITFORONE,
            std::ptr::null_mut(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    for (len, h) in lens.iter_mut().zip(&hdrs).take(n) {
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "netlink datagram truncated",
            ));
        }
        *len = h.msg_len as usize;
    }
    Ok(n)
}
