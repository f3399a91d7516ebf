/*
 * shared_map.c — see shared_map.h.
 */
#include "shared_map.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int shared_map_create(const char *name, size_t size, const void *header, size_t header_len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		r = -errno;
		goto fail;
	}
	ssize_t n = pwrite(fd, header, header_len, 0);
	if (n != (ssize_t)header_len) {
		r = n < 0 ? -errno : -EIO;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int shared_map_open(int fd, size_t size, void **ret_map)
{
	struct stat st;
	void *map;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < (off_t)size)
		return -EBADMSG;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	*ret_map = map;
	return 0;
}
