"""EMOShip: the wearer's emotion from eye-crop sequences, with and without the attended scene (emotionship)."""
