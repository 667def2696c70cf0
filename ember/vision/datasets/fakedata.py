"""FakeData: random images, the same for the same index every time."""
import ember
from ember.vision.datasets.vision import VisionDataset


class FakeData(VisionDataset):
    """Random images as PIL images, with random class labels; item ``i`` is seeded by ``i + random_offset``.

    Args:
        size: the number of images.
        image_size: (C, H, W) of each image.
        num_classes: labels are drawn from ``range(num_classes)``.
        transform: applied to each PIL image.
        target_transform: applied to each label.
        random_offset: shifts the seeds, giving a different set of images.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        """Returns ``(image, target)``; the global random state is left as it was."""
        from ember.vision import transforms
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng_state = ember.get_rng_state()
        ember.manual_seed(index + self.random_offset)
        img = ember.randn(*self.image_size)
        target = ember.randint(0, self.num_classes, size=(1,), dtype=ember.long)[0]
        ember.set_rng_state(rng_state)
        img = transforms.ToPILImage()(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()

    def __len__(self):
        return self.size
